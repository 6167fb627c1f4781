"""Sigma: SPL → Sigma rules (``to-sigma``), Sigma → other SIEMs (``convert``), round trip."""
