"""``python -m service.cli``: the same entry point as the ``nengli`` script."""

from service.cli.main import main

main()
