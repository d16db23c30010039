"""The batch pipeline: per-partition training, top-N lists and diagnoses, as Parquet artifacts.

``nengli batch`` runs after the data is in: it splits the country (or one province) into
partitions — a province, or a city of a very large province (:mod:`.partitions`) — and for each
one trains the diagnosis and the recommender, scores the top N items of every teacher for
course, task and both kinds together, diagnoses every teacher, and writes the lists and the
diagnosis as Parquet tagged with the partition's model version (:mod:`.pipeline`). Where the
partitions run is the engine's only job (:mod:`.engines`): one process, or a Ray cluster.
"""

from recommender.batch.engines import ENGINES, run_partitions
from recommender.batch.partitions import Partition, partition_province, plan_partitions
from recommender.batch.pipeline import (
    BatchResult,
    PartitionResult,
    PartitionTask,
    read_batch,
    run_batch,
    run_partition,
)
from recommender.batch.scoring import LIST_KINDS, top_lists

__all__ = [
    "ENGINES",
    "LIST_KINDS",
    "BatchResult",
    "Partition",
    "PartitionResult",
    "PartitionTask",
    "partition_province",
    "plan_partitions",
    "read_batch",
    "run_batch",
    "run_partition",
    "run_partitions",
    "top_lists",
]
