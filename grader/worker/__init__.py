"""The trust boundary: the only grader code that runs beside student code, inside the sandbox.

`serve` answers the trusted side's calls, `codec` turns values into plain data and back,
`policy` is the import and file guard, `keeper` ties a tier-2 worker's processes to the grader's
life. These modules import only the standard library, NumPy and each other (a test scans them):
nothing here may reach the course, the reference or the reports.
"""
