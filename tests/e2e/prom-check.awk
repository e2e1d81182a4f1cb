# SPDX-License-Identifier: MIT
# A strict reader of the Prometheus text exposition format (version 0.0.4)
# for the tests: exits 1 naming the first bad line, else prints each
# sample as "TYPE NAME{LABELS} VALUE" for the caller to compare.
#
# Checked: HELP and TYPE at most once per family and before its samples,
# a family's lines together, metric and label names, no reserved "__"
# label names, no repeated label, label values quoted with only the
# escapes \\ \" \n, numeric values, counters named *_total and >= 0, no
# repeated series (the caller checks the final newline).
function bad(why) {
	printf "line %d: %s: %s\n", NR, why, $0 > "/dev/stderr"
	err = 1
	exit 1
}
function family(name) {
	if (name != cur) {
		if (name in seen)
			bad("family '" name "' is not together")
		seen[name] = 1
		cur = name
	}
}
BEGIN { err = 0; cur = "" }
/^# HELP / {
	n = $3
	if (n !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) bad("bad metric name")
	family(n)
	if ((n, "help") in meta) bad("second HELP")
	if ((n, "samples") in meta) bad("HELP after samples")
	meta[n, "help"] = 1
	next
}
/^# TYPE / {
	n = $3
	if (NF != 4) bad("bad TYPE line")
	if (n !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) bad("bad metric name")
	if ($4 !~ /^(counter|gauge|histogram|summary|untyped)$/) bad("bad type")
	family(n)
	if ((n, "type") in meta) bad("second TYPE")
	if ((n, "samples") in meta) bad("TYPE after samples")
	meta[n, "type"] = 1
	type[n] = $4
	next
}
/^#/ { next }
/^$/ { bad("empty line") }
{
	line = $0
	if (!match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) bad("bad metric name")
	n = substr(line, 1, RLENGTH)
	rest = substr(line, RLENGTH + 1)
	family(n)
	if (!(n in type)) bad("sample before its TYPE")
	meta[n, "samples"] = 1
	labels = ""
	delete names
	if (substr(rest, 1, 1) == "{") {
		rest = substr(rest, 2)
		while (substr(rest, 1, 1) != "}") {
			if (!match(rest, /^[a-zA-Z_][a-zA-Z0-9_]*="/))
				bad("bad label name")
			ln = substr(rest, 1, RLENGTH - 2)
			if (ln ~ /^__/) bad("reserved label name")
			if (ln in names) bad("repeated label")
			names[ln] = 1
			rest = substr(rest, RLENGTH + 1)
			if (!match(rest, /^([^"\\\n]|\\[\\"n])*"/))
				bad("bad label value")
			labels = labels (labels == "" ? "" : ",") ln "=\"" \
			    substr(rest, 1, RLENGTH)
			rest = substr(rest, RLENGTH + 1)
			if (substr(rest, 1, 1) == ",")
				rest = substr(rest, 2)
			else if (substr(rest, 1, 1) != "}")
				bad("bad label list")
		}
		rest = substr(rest, 2)
	}
	if (rest !~ /^ [-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/ &&
	    rest !~ /^ ([-+]Inf|NaN)$/)
		bad("bad value")
	v = substr(rest, 2)
	if (type[n] == "counter" && (n !~ /_total$/ || v + 0 < 0))
		bad("bad counter")
	key = n "{" labels "}"
	if (key in series) bad("repeated series")
	series[key] = 1
	print type[n], key, v
}
