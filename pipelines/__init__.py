"""Item pipelines that persist a crawl: WARC files and the provenance database."""
