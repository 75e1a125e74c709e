"""Runnable examples (``python -m examples.NAME``), PyDyNet's set reproduced on pydyfast.

autodiff1d, autodiff2d   gradient descent on a convex function, path plotted
mnist                    3-layer MLP and LeNet-5 (MNIST, or scikit-learn's digits offline)
dropout_bn               plain vs Dropout vs BatchNorm MLPs (Olivetti faces, or digits offline)
ts_prediction            GRU forecasting a noisy sine series
transformer              1-layer Transformer classifying sentences (CoLA, or a generated task)

``examples.pytorch.NAME`` runs the same model and loop on PyTorch.
"""
