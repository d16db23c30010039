// A real OpenID Connect provider (panva/oidc-provider) for nengli's sign-in tests.
// Usage: node provider.mjs PORT CONFIG.json
//   CONFIG: {"clients": [...oidc-provider client metadata...], "accounts": {"login": {claims}}}
// Accounts are the test's; the login form is oidc-provider's development interaction (any
// password). First-party clients get their grant without a consent screen, as at a province.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const [port, configPath] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, "utf8"));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  claims: {
    openid: ["sub"],
    profile: ["name"],
    nengli: ["nengli_role", "region", "school_id", "teacher_id", "org"],
  },
  scopes: ["openid", "profile", "nengli"],
  pkce: { required: () => true },
  cookies: { keys: ["nengli-test-provider-cookie-key"] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, sub) {
    const claims = config.accounts[sub];
    if (!claims) return undefined;
    return { accountId: sub, async claims() { return { sub, ...claims }; } };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid profile nengli");
    await grant.save();
    return grant;
  },
});
provider.proxy = false;
provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
