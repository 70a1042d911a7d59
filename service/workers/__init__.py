"""The worker edge: job entry points (jobs.py) and the worker process (main.py).

Jobs take ids only, call one pipeline step and turn its outcome into a result or a retry; the
steps themselves are in service/pipeline/, the arq specifics in service/queue.py.
"""
