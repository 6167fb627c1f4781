"""JSON record shapes: one module per shipper's layout of an event as a JSON object.

A JSON-lines file is read once; its first object decides the shape (see
:func:`detect`), and every object goes through that shape's ``to_record``. Order
matters: the most specific shapes are tried first, Splunk's export shape last.
"""
