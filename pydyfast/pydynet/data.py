"""``pydynet.data``: pydyfast's datasets, samplers and loaders (the same classes)."""
from ..data import (BatchSampler, DataLoader, Dataset, RandomSampler, Sampler,  # noqa: F401
                    SequentialSampler, data_loader)
