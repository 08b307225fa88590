"""The repository scanner (`custos scan-repo`, the `repository` check; docs/secdev.md): ML code
rules on Python's `ast` (scripts and notebooks), secrets, dependency manifests and lockfiles,
Dockerfiles and CI workflows. Files are read as text and parsed, never imported or run.

Layout: `model` (findings, dependencies, the report), `pynames` (what names in Python code
resolve to), `pysinks` (the Python rules), `notebooks`, `secrets`, `deps` (manifests and
lockfiles), `containers` (Dockerfiles), `workflows` (CI pipelines and composite actions),
`shellvars` (how a shell script uses a variable, for GitLab CI), `rules` (every rule in one
table), `scan` (the walk), `sarif`.
"""
