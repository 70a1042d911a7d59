"""The comment pipeline: the way a comment travels, one module per stop, in order.

context  -> what a run needs (database, queue, Graph client, cipher, detectors)
inbox    -> a webhook delivery stored as inbox rows, each event routed to handle_comment
comments -> detect, apply the policy, record the finding and its pending actions
actions  -> perform the actions on the platform (hide, reply), record the results
polling  -> recent posts read again, because webhooks can be late
scans    -> a backfill: the history walk (service/scanning/walk.py) through the same path
reconcile-> work left pending is sent again
"""
