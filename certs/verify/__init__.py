"""Verification service (核验服务) for department systems: real-name, enterprise and status
checks against the shared registries, and the audit log of every call.

``checks`` holds the logic of each check (one indexed lookup by pseudonymous key where it can),
``repository`` the Core queries behind them, ``call_log`` the batched audit writer, ``api`` the
routes under ``/api/v1/verify``. E-certificates themselves live in the parent package.
"""
