"""The fleet rollout: one command over many stacks of this project (Pulumi's Automation API).

Every stack is previewed first; then the waves are applied in their declared order (dev before
prod), a few stacks of a wave at once, each followed by a health gate read through its cluster,
and the rollout stops at the first failure with a table of what was applied where.
`plan` (the fleet and its order) and `rollout` (the steps and the stop) are pure; `automation`
is the thin Automation-API runner, `health` the gate, `cli` the command.
"""
