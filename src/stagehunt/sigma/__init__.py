"""Sigma, both ways.

Sigma rules on the SPL engine: ``rules`` loads files and folders (errors as data),
``pipelines`` holds the processing pipelines (pySigma's Sysmon and Windows ones plus our
field naming), ``convert`` turns each rule into SPL or a reason it does not convert,
``run`` runs them on one store, and ``regression`` / ``differential`` are the two checks
against SigmaHQ's own data.

SPL to Sigma and beyond: ``from_spl`` (with ``logic``, ``detection``, ``taxonomy.json``)
translates an SPL query into Sigma rules and a correlation (``to-sigma``), ``emit``
writes them, ``pack_rules`` does it for a pack, ``export`` converts them to other SIEMs'
queries through pySigma backends (``targets.toml``), and ``roundtrip`` checks the
translation's verdicts against the SPL's.
"""
