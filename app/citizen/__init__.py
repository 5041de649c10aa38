"""The citizen portal (个人服务): a signed-in citizen's own benefits, payments, e-certificates,
messages, decision explanations, objections and refusal of automated decisions, as JSON under
``/api/v1/me`` (``api``) and as pages under ``/citizen`` (``pages``). Ownership is enforced in
``service``: every record is looked up through the keys the citizen holds (their own person key
and the birth certificates of their children), never by an id alone."""
