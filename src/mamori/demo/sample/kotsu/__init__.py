"""Kōtsū kanri (交通管理): maintenance tickets for a regional railway operator.

Depot staff open tickets against rolling stock and track equipment, planners import the
weekly inspection schedule, and the on-call engineer checks the host from the diagnostics
page. The service is a plain WSGI application on the standard library and PyYAML.
"""

__version__ = "1.4.0"
