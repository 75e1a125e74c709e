"""``python -m examples.pytorch.mnist``: ``examples.mnist`` on PyTorch (same model, data
and training loop)."""
import sys

from examples.mnist import main

if __name__ == "__main__":
    main(sys.argv[1:], framework="torch")
