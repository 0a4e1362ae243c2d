"""Runs on Celery workers, above the adapters: shards by tenant, merged like a local run.

``faellesdrift worker`` starts a worker (tasks.py); ``network backup|compliance|
remediate``, ``servers plan|apply`` and ``verify`` with ``--executor celery`` hand their run
to ``CeleryExecutor`` (executor.py), found through the ``faellesdrift.executors``
entry point (faellesdrift.executors), so no adapter imports this package.
"""
