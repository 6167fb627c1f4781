"""Sigma rules on the SPL engine: load, convert with pySigma's Splunk backend, run.

``rules`` loads files and folders (errors as data), ``pipelines`` holds the processing
pipelines (pySigma's Sysmon and Windows ones plus our field naming), ``convert`` turns each
rule into SPL or a reason it does not convert, ``run`` runs them on one store, and
``regression`` / ``differential`` are the two checks against SigmaHQ's own data.
"""
