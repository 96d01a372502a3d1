"""Code sets Reclaim checks claims against: ICD-10-CM, CPT format, HCPCS Level II, modifiers,
places of service, NCCI edits and MUE limits, CARC/RARC labels.

Each module loads its data lazily, so importing this package stays cheap.
"""
