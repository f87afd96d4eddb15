"""The ingest pipeline, one module per stage; `batch.run` runs them in this order:
discover -> plan -> ocr (page jobs on an `executor`; the job itself: `page`) -> record ->
assemble (the document's PDF/A) -> describe (document.json) -> indexing."""
