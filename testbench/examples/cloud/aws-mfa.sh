#!/bin/sh
# AWS IAM virtual MFA as the bench's command target. Shaped on the AWS CLI
# v2's documented commands and errors; NOT run against AWS (the tests run
# it against a fake aws command). Use an IAM user made for testing.
#
#   totpemu bench \
#     --enroll-cmd 'sh testbench/examples/cloud/aws-mfa.sh enroll {account}' \
#     --bind-cmd   'sh testbench/examples/cloud/aws-mfa.sh bind {account} {code1} {code2}' \
#     --target-cmd 'sh testbench/examples/cloud/aws-mfa.sh verify {account} {code}' \
#     --throttled-exit 75 --account qa-mfa-bench
#
# enroll USER         a fresh virtual MFA device for USER (an old one of the
#                     same name deactivated and deleted first); prints its
#                     base32 seed
# bind USER C1 C2     aws iam enable-mfa-device with two consecutive codes
# verify USER CODE    aws sts get-session-token with the device and CODE
#                     (run with USER's own credentials: AWS_PROFILE)
#
# Exit 0 accepted, 1 refused, 75 throttled ("Throttling"); anything else is
# printed and no verdict. State (the device serials) in $TOTPEMU_AWS_STATE.
set -eu
state=${TOTPEMU_AWS_STATE:-${TMPDIR:-/tmp}/totpemu-aws}
mkdir -p "$state"
[ $# -ge 2 ] || { echo "usage: $0 enroll|bind|verify USER [CODE...]" >&2; exit 64; }
cmd=$1 user=$2
err=$state/$user.err

# verdict reads the CLI's error: a refused code is exit 1, throttling 75.
verdict() {
	if grep -q -e InvalidAuthenticationCode -e 'MultiFactorAuthentication failed' -e 'invalid MFA one time pass code' "$err"; then
		exit 1
	fi
	if grep -q -e Throttling -e 'Rate exceeded' "$err"; then
		exit 75
	fi
	cat "$err" >&2
	exit 70
}

case $cmd in
enroll)
	if [ -s "$state/$user.serial" ]; then
		serial=$(cat "$state/$user.serial")
		aws iam deactivate-mfa-device --user-name "$user" --serial-number "$serial" 2>/dev/null || true
		aws iam delete-virtual-mfa-device --serial-number "$serial" 2>/dev/null || true
	fi
	rm -f "$state/$user.seed"
	aws iam create-virtual-mfa-device --virtual-mfa-device-name "$user" \
		--bootstrap-method Base32StringSeed --outfile "$state/$user.seed" \
		--query VirtualMFADevice.SerialNumber --output text >"$state/$user.serial" 2>"$err" || verdict
	cat "$state/$user.seed"
	echo
	;;
bind)
	aws iam enable-mfa-device --user-name "$user" --serial-number "$(cat "$state/$user.serial")" \
		--authentication-code1 "$3" --authentication-code2 "$4" 2>"$err" || verdict
	;;
verify)
	aws sts get-session-token --serial-number "$(cat "$state/$user.serial")" --token-code "$3" \
		--duration-seconds 900 >/dev/null 2>"$err" || verdict
	;;
*)
	echo "$0: unknown command $cmd" >&2
	exit 64
	;;
esac
