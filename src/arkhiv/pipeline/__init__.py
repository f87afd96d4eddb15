"""The ingest stages, one module each: discover -> ocr (preprocess + OCR + page PDF) -> pdf."""
