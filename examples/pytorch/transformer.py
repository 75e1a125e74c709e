"""``python -m examples.pytorch.transformer``: ``examples.transformer`` on PyTorch (same model, data
and training loop)."""
import sys

from examples.transformer import main

if __name__ == "__main__":
    main(sys.argv[1:], framework="torch")
