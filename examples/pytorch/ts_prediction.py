"""``python -m examples.pytorch.ts_prediction``: ``examples.ts_prediction`` on PyTorch (same
model, data and training loop)."""
import sys

from examples.ts_prediction import main

if __name__ == "__main__":
    main(sys.argv[1:], framework="torch")
