# SPDX-License-Identifier: MIT
# The FOCUS 1.1 column and value rules gpubill --format focus promises
# (docs/FORMAT.md 4.10), checked on its CSV: exits 1 naming the first
# broken rule, else prints the sum of BilledCost in cents.
function bad(why) {
	printf "row %d: %s\n", NR, why > "/dev/stderr"
	err = 1
	exit 1
}
# Split one RFC 4180 record (no embedded newlines) into f[1..n].
function split_csv(line, f,    n, i, c, q, cell) {
	n = 0; cell = ""; q = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (q) {
			if (c == "\"" && substr(line, i + 1, 1) == "\"") {
				cell = cell c; i++
			} else if (c == "\"") {
				q = 0
			} else {
				cell = cell c
			}
		} else if (c == "\"") {
			q = 1
		} else if (c == ",") {
			f[++n] = cell; cell = ""
		} else {
			cell = cell c
		}
	}
	if (q) bad("unterminated quote")
	f[++n] = cell
	return n
}
function dec(v) { return v ~ /^-?[0-9]+(\.[0-9]+)?$/ }
function dt(v) { return v ~ /^[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$/ }
function v(name) { return f[col[name]] }
BEGIN {
	err = 0
	need = "BilledCost BillingAccountId BillingAccountName " \
	    "BillingCurrency BillingPeriodEnd BillingPeriodStart " \
	    "ChargeCategory ChargeClass ChargeDescription ChargePeriodEnd " \
	    "ChargePeriodStart ConsumedQuantity ConsumedUnit EffectiveCost " \
	    "InvoiceIssuerName ListCost ListUnitPrice PricingQuantity " \
	    "PricingUnit ProviderName PublisherName ResourceId " \
	    "ResourceName ResourceType ServiceCategory ServiceName " \
	    "SubAccountId SubAccountName Tags"
	# Never null (FOCUS 1.1): the billing account and who provides.
	notnull = "BillingAccountId BillingAccountName InvoiceIssuerName " \
	    "ProviderName PublisherName"
	cats = " Usage Purchase Tax Credit Adjustment "
	svc = " AI and Machine Learning|Analytics|Business Applications|" \
	    "Compute|Databases|Developer Tools|Multicloud|Identity|" \
	    "Management and Governance|Media|Mobile|Networking|" \
	    "Security|Storage|Web|Other "
}
NR == 1 {
	ncol = split_csv($0, f)
	for (i = 1; i <= ncol; i++) col[f[i]] = i
	m = split(need, names, " ")
	for (i = 1; i <= m; i++)
		if (!(names[i] in col)) bad("missing column " names[i])
	next
}
{
	if (split_csv($0, f) != ncol) bad("wrong number of cells")
	for (i = 1; i <= ncol; i++)
		if (f[i] ~ /^[=+@\t\r-]/) bad("unsafe cell '" f[i] "'")
	for (i = 1; i <= m; i++)
		if (names[i] ~ /Cost$/ && !dec(v(names[i])))
			bad(names[i] " is not a decimal")
	if (v("ListCost") != v("BilledCost") || v("EffectiveCost") != v("BilledCost"))
		bad("costs differ (no discounts)")
	if (v("BillingCurrency") !~ /^[A-Z][A-Z][A-Z]$/) bad("currency")
	k = split(notnull, nn, " ")
	for (i = 1; i <= k; i++)
		if (v(nn[i]) == "") bad(nn[i] " is null")
	if (!dt(v("BillingPeriodStart")) || !dt(v("BillingPeriodEnd")) ||
	    !dt(v("ChargePeriodStart")) || !dt(v("ChargePeriodEnd")))
		bad("date/time format")
	if (!(v("BillingPeriodStart") < v("BillingPeriodEnd")) ||
	    !(v("ChargePeriodStart") < v("ChargePeriodEnd")))
		bad("empty period")
	if (v("ChargePeriodStart") < v("BillingPeriodStart") ||
	    v("ChargePeriodEnd") > v("BillingPeriodEnd"))
		bad("charge period outside the billing period")
	if (index(cats, " " v("ChargeCategory") " ") == 0) bad("ChargeCategory")
	if (v("ChargeClass") != "") bad("ChargeClass is not null")
	if (index(svc, v("ServiceCategory")) == 0 || v("ServiceCategory") == "")
		bad("ServiceCategory")
	if (v("ServiceName") == "" || v("ChargeDescription") == "")
		bad("ServiceName or ChargeDescription null")
	if ((v("ResourceId") == "") != (v("ResourceType") == ""))
		bad("ResourceType null iff ResourceId null")
	if (v("ChargeCategory") == "Usage") {
		if (!dec(v("ConsumedQuantity")) || v("ConsumedQuantity") + 0 <= 0 ||
		    v("ConsumedUnit") == "")
			bad("Usage without ConsumedQuantity/Unit")
		if (!dec(v("PricingQuantity")) || v("PricingUnit") == "" ||
		    !dec(v("ListUnitPrice")) || v("ListUnitPrice") + 0 < 0)
			bad("Usage without pricing")
		# Unit price x quantity = ListCost, to the cent it was rounded to.
		d = v("ListUnitPrice") * v("PricingQuantity") - v("ListCost")
		if (d > 0.0051 || d < -0.0051) bad("ListUnitPrice x PricingQuantity")
	} else if (v("ConsumedQuantity") != "" || v("ConsumedUnit") != "") {
		bad("ConsumedQuantity of a non-Usage charge")
	}
	if (v("Tags") !~ /^\{.*\}$/) bad("Tags is not a JSON object")
	cents += int(v("BilledCost") * 100 + 0.5)
}
END { if (err == 0) print cents }
