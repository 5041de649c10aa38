"""Shared data platform (数据共享平台): the datasets departments provide, their catalog, storage,
import with validation and quarantine, and the synthetic city.

It lives under ``app/`` rather than as a top-level package because it is shared infrastructure
every domain reads (eligibility evaluates it, certs verifies against it, notifications takes
mobiles from it) and owns no policy logic of its own.

Files: ``catalog`` (exchange schema of each dataset), ``regions`` (GB/T 2260 codes), ``models``
(storage tables), ``schemas`` (report shapes), ``validation`` (vectorised row checks),
``repository`` (queries and bulk writes), ``service`` (import), ``synth`` (synthetic city).
"""
