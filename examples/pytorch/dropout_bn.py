"""``python -m examples.pytorch.dropout_bn``: ``examples.dropout_bn`` on PyTorch (same model, data
and training loop)."""
import sys

from examples.dropout_bn import main

if __name__ == "__main__":
    main(sys.argv[1:], framework="torch")
