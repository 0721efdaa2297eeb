package postpolicy

// The hooks of the mutation tests (mutation_test.go): they change one check
// of the rule table for the length of a test, as a change to the table
// would, so that the tests can show that every path that signs runs it.

// NumChecks is the number of checks in the rule table.
const NumChecks = int(numChecks)

// CheckInfo describes check i of the table: its rule, whether it is a
// warning, and whether it looks at values (not only at the shape).
func CheckInfo(i int) (rule Rule, warning, values bool) {
	d := checks[i]
	return d.rule, d.warning, d.on == onValues
}

// MutateCheck sets check i's severity and turns it off or on; the function
// it returns restores the check.
func MutateCheck(i int, warning, off bool) (restore func()) {
	saved := checks[i]
	checks[i].warning, checks[i].off = warning, off
	return func() { checks[i] = saved }
}
