"""Reports made from CellResults: terminal tables now; plots and HTML beside them."""
