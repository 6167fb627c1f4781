"""Search-time knowledge: add-on field aliases, calculated fields, event types and tags,
and the CIM data models (data files; see docs/cim.md)."""

from stagehunt.knowledge.load import KnowledgeError, bundled, load
from stagehunt.knowledge.model import DataModel, DataObject, Knowledge

__all__ = ["DataModel", "DataObject", "Knowledge", "KnowledgeError", "bundled", "load"]
