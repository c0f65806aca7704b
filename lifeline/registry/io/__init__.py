"""Import and export of the resource registry: CSV/XLSX of vendors, resources and access
routes, KBART title lists, and EZproxy stanzas. Parsing and planning never write; applying
a plan happens in one transaction, so a file with any error changes nothing."""
