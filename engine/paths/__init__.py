"""Path languages used to pick values out of helpdesk responses.

``engine.paths.gjson`` evaluates GJSON paths with the exact behaviour of the
Go library the PBX runs (github.com/tidwall/gjson).
"""
