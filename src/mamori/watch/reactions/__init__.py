"""The reactions of ``mamori watch``, one module per job kind.

* :mod:`.index`: ``sync`` — update a project's checkout and its rows of the component index
  (only the dependency files the new commits touched);
* :mod:`.match`: ``advisory`` and ``kev`` — find the projects a changed advisory or a KEV
  addition may hit, through the index (no rescan of the fleet);
* :mod:`.evaluate`: ``evaluate`` — a project's findings from its indexed components and the
  advisory database, prioritised with the fleet file's asset context; queues fixes or notices;
* :mod:`.fix`: ``fix`` — :func:`mamori.fix.fix_project` on the checkout (verified in the
  sandbox, nothing applied), one proposal per verified upgrade;
* :mod:`.propose`: ``propose`` — commit the verified diff to a ``mamori/…`` branch, push it,
  open the merge request (:mod:`.forge`), each step resumable;
* :mod:`.notify`: ``notify`` — a JSON POST to each webhook.
"""
