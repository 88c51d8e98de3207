"""Running scatter workers on a Dask distributed cluster (the worker side).

    client (the user's Shell)                      Dask worker process
    ─────────────────────────                      ───────────────────
    interpreter/dask_engine.py                     distributed/worker.py
      capture(session) ─► SegmentSpec ─(once)──►     WorkerHost: one kaish Shell on a
      submit(run_item, spec, i, item) ─(per item)►   loop thread; restore the snapshot,
      row ◄──────────────────────────────────────    run the segment, return the row

`snapshot.py` holds the data that crosses the wire (the parsed segment and
the session snapshot it needs); `worker.py` is the Dask task and the per
process host that runs it. Importing this package does not import Dask: the
optional `distributed` dependency is loaded by the client when the engine is
chosen and by Dask itself on the workers.
"""
