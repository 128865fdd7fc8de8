"""Lambda: each function's sandboxes (the parent's pool, the child's runtime), the runtime's
SnapStart hooks library, and what a function prints delivered to its log group as the execution
role. (The trailing underscore: `lambda` is a Python keyword.)"""
