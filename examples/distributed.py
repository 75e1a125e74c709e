"""``python -m pydyfast.distributed.run -n 2 -m examples.distributed``: the MNIST MLP or LeNet-5
of ``examples.mnist`` trained data-parallel with DistributedDataParallel.

Every process holds a replica of the model and trains on its shard of each global batch
(DistributedSampler); DDP averages the gradients, so N processes follow the same trajectory as
one process with the same global batch. Rank 0 prints, saves the checkpoint with ``pdf.save``,
and every rank loads it back. ``--device cuda`` uses the NCCL backend (one GPU per process).
Stated result: on the offline digits, ``-n 2 ... --model mlp --epochs 3`` reaches test accuracy
>= 0.90, the same as ``-n 1``.
"""
import sys

import numpy as np

import pydyfast as pdf
import pydyfast.distributed as dist
from pydyfast.data import DataLoader, DistributedSampler, TensorDataset
from pydyfast.nn.parallel import DistributedDataParallel

from . import common, datasets, models
from .frameworks import Framework

BUILDERS = {"mlp": models.mlp, "lenet": models.lenet}


def evaluate(model, x, y, batch_size):
    """Accuracy on (x, y), each rank scoring its shard and the counts summed over ranks."""
    model.eval()
    counts = np.zeros(2, np.int64)  # correct, seen
    with pdf.no_grad():
        for i in range(dist.get_rank() * batch_size, len(x), dist.get_world_size() * batch_size):
            out = model(pdf.tensor(x[i:i + batch_size], device=model_device(model)))
            counts += [int((out.numpy().argmax(-1) == y[i:i + batch_size]).sum()),
                       len(y[i:i + batch_size])]
    counts = pdf.tensor(counts, device=model_device(model))  # NCCL reduces GPU tensors only
    dist.all_reduce(counts)
    model.train()
    correct, seen = counts.tolist()
    return correct / max(seen, 1)


def model_device(model):
    return next(iter(model.parameters())).device


def main(argv=None):
    p = common.parser("distributed", __doc__.splitlines()[0], epochs=3, batch_size=128, lr=1e-3,
                      data_help="directory with MNIST's four *-ubyte.gz files")
    p.add_argument("--model", choices=list(BUILDERS), default="mlp")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    p.add_argument("--checkpoint", default=None, help="where rank 0 saves the final weights")
    args = p.parse_args(argv)
    dist.init_process_group("nccl" if args.device.startswith("cuda") else "mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must divide among {world} processes")
    x_train, y_train, x_test, y_test, description = datasets.load_mnist(args.data)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    fw = Framework("pydyfast", args.device)
    fw.manual_seed(args.seed)
    model = DistributedDataParallel(fw.to_device(BUILDERS[args.model](fw)))
    train = TensorDataset(x_train, y_train.astype(np.int64))
    sampler = DistributedSampler(train, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size // world, sampler=sampler)
    optimizer = pdf.optim.Adam(model.parameters(), lr=args.lr)
    criterion = pdf.nn.CrossEntropyLoss()
    say = print if rank == 0 and not args.quiet else (lambda *a, **k: None)
    say(f"data: {description}; {len(x_train)} train / {len(x_test)} test images; {world} "
        f"processes ({dist.get_backend()}), {args.batch_size // world} images each per step")
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        losses = []
        for xb, yb in loader:
            loss = criterion(model(xb.to(model_device(model))), yb.to(model_device(model)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        accuracy = evaluate(model, x_test, y_test, 4 * args.batch_size // world)
        say(f"epoch {epoch}: rank-0 loss {np.mean(losses):.4f}, test accuracy {accuracy:.4f}")
    if args.checkpoint:
        if rank == 0:
            pdf.save(model.module.state_dict(), args.checkpoint)
        dist.barrier()
        model.module.load_state_dict(pdf.load(args.checkpoint))  # every rank, same weights
        say(f"checkpoint: {args.checkpoint}")
    if rank == 0:
        print(f"{args.model}: final test accuracy {accuracy:.4f}")
    dist.destroy_process_group()
    return accuracy


if __name__ == "__main__":
    main(sys.argv[1:])
