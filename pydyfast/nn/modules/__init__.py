"""Layers, one topic per file (PyTorch's nn/modules habit)."""
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, Sigmoid,  # noqa: F401
                         SiLU, Softmax, Softplus, Tanh)
from .batchnorm import BatchNorm1d, BatchNorm2d  # noqa: F401
from .syncbatchnorm import SyncBatchNorm  # noqa: F401
from .container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .conv import Conv1d, Conv2d, ConvTranspose2d  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .flatten import Flatten  # noqa: F401
from .linear import Bilinear, Identity, Linear  # noqa: F401
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, L1Loss,  # noqa: F401
                   MSELoss, NLLLoss, SmoothL1Loss)
from .module import Module  # noqa: F401
from .normalization import GroupNorm, LayerNorm, RMSNorm  # noqa: F401
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d,  # noqa: F401
                      MaxPool1d, MaxPool2d)
from .rnn import *  # noqa: F401,F403
from .sparse import Embedding  # noqa: F401
from .transformer import (MultiheadAttention, TransformerEncoder,  # noqa: F401
                          TransformerEncoderLayer)
# issue 19's layers
from .activation import (CELU, GLU, SELU, Hardsigmoid, Hardswish, LogSigmoid,  # noqa: F401,E402
                         Mish, ReLU6, Softmin)
from .conv import Conv3d  # noqa: F401,E402
from .distance import CosineSimilarity, PairwiseDistance  # noqa: F401,E402
from .dropout import Dropout1d, Dropout2d, Dropout3d  # noqa: F401,E402
from .loss import (CosineEmbeddingLoss, GaussianNLLLoss, HuberLoss,  # noqa: F401,E402
                   MarginRankingLoss, PoissonNLLLoss, TripletMarginLoss)
from .padding import *  # noqa: F401,F403,E402
from .pooling import MaxUnpool1d, MaxUnpool2d  # noqa: F401,E402
from .upsampling import (Fold, PixelShuffle, PixelUnshuffle, Unfold, Upsample,  # noqa: F401,E402
                         UpsamplingBilinear2d, UpsamplingNearest2d)
