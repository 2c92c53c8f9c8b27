"""The feeds ``mamori watch`` polls, one module each: OSV (:mod:`.osv`), CISA KEV (:mod:`.kev`),
FIRST EPSS (:mod:`.epss`) and the watched branches of the fleet's projects (:mod:`.commits`).

Every feed follows the same rule for crash safety: fetch, store what was fetched (the advisory
database is replaced atomically), then queue the jobs and move the feed's cursor in one
transaction of the state database. A kill before that transaction re-fetches the same items on
the next poll (storing them again changes nothing); a kill after it has lost nothing.
"""
