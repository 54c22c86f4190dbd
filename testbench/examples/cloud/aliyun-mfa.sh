#!/bin/sh
# Alibaba Cloud RAM virtual MFA as the bench's command target, for
# enrollment: CreateVirtualMFADevice, then BindMFADevice with two
# consecutive codes. Shaped on the aliyun CLI's documented RAM API; NOT run
# against Alibaba Cloud (the tests run it against a fake aliyun command).
# RAM has no API that checks a code alone: verify is your own login check
# (a command printing the verdict), or run --scenario enroll and read the
# bind.
#
#   totpemu bench --scenario enroll \
#     --enroll-cmd 'sh testbench/examples/cloud/aliyun-mfa.sh enroll {account}' \
#     --bind-cmd   'sh testbench/examples/cloud/aliyun-mfa.sh bind {account} {code1} {code2}' \
#     --target-cmd './my-login-check {account} {code}'
#
# Exit 0 accepted, 1 refused, 75 throttled; anything else is printed and no
# verdict. State (the device serials) in $TOTPEMU_ALIYUN_STATE.
set -eu
state=${TOTPEMU_ALIYUN_STATE:-${TMPDIR:-/tmp}/totpemu-aliyun}
mkdir -p "$state"
[ $# -ge 2 ] || { echo "usage: $0 enroll|bind USER [CODE1 CODE2]" >&2; exit 64; }
cmd=$1 user=$2
err=$state/$user.err

verdict() {
	if grep -q -e InvalidAuthenticationCode -e 'MFA.*[Ii]nvalid' "$err"; then
		exit 1
	fi
	if grep -q -e Throttling "$err"; then
		exit 75
	fi
	cat "$err" >&2
	exit 70
}

case $cmd in
enroll)
	if [ -s "$state/$user.serial" ]; then
		serial=$(cat "$state/$user.serial")
		aliyun ram UnbindMFADevice --UserName "$user" >/dev/null 2>&1 || true
		aliyun ram DeleteVirtualMFADevice --SerialNumber "$serial" >/dev/null 2>&1 || true
	fi
	out=$(aliyun ram CreateVirtualMFADevice --VirtualMFADeviceName "$user" 2>"$err") || verdict
	# The answer is JSON: {"VirtualMFADevice": {"SerialNumber": ..., "Base32StringSeed": ...}}
	printf '%s' "$out" | tr -d '\n' | sed -n 's/.*"SerialNumber" *: *"\([^"]*\)".*/\1/p' >"$state/$user.serial"
	printf '%s' "$out" | tr -d '\n' | sed -n 's/.*"Base32StringSeed" *: *"\([^"]*\)".*/\1/p'
	echo
	;;
bind)
	aliyun ram BindMFADevice --SerialNumber "$(cat "$state/$user.serial")" --UserName "$user" \
		--AuthenticationCode1 "$3" --AuthenticationCode2 "$4" >/dev/null 2>"$err" || verdict
	;;
*)
	echo "$0: unknown command $cmd" >&2
	exit 64
	;;
esac
