"""The same examples on PyTorch: ``python -m examples.pytorch.NAME`` runs the model and training
loop of ``examples.NAME`` (defined once in ``examples.models``/``examples.training``) with torch,
as the accuracy and speed reference for pydyfast."""
