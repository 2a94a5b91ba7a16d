"""scrapers"""
