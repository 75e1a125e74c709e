"""``python -m pydyfast.llama`` (installed) or ``python -m llama`` (checkout): the generation CLI."""
import sys

from .infer import main

sys.exit(main())
