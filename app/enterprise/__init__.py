"""The enterprise portal (企业服务): a signed-in enterprise's matched policies with amounts, its
near misses with the failing conditions in plain Chinese, and confirmation of the bank account
where a policy asks; JSON under ``/api/v1/enterprise/me`` (``api``), pages under ``/enterprise``
(``pages``). The enterprise's key is its unified social credit code."""
