"""The bundled offline site for `scrapy demo`, and the loopback server it runs on."""
