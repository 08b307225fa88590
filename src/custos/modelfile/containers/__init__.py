"""What holds other files: zip (and PyTorch's zip layout), tar, 7z and compressed streams,
each member handed back to the dispatcher under the file's budgets.
"""
