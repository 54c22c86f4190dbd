# A verifier for the bench's command target built on Ruby's ROTP, the way
# devise-two-factor and GitLab call it: verify(code, drift_behind:,
# drift_ahead:, after:). The window is in seconds ($ROTP_BEHIND,
# $ROTP_AHEAD); with $ROTP_STATE set to a directory, the timestamp of the
# last accepted code is kept per enrollment and passed as after: (replay
# protection by step). The time is $TOTPEMU_NOW_MS when set (the bench's
# virtual time), else the system clock. Exit 0: accepted; 1: refused.
require "rotp"

code = ARGV.last.to_s
totp = ROTP::TOTP.new(ENV.fetch("TOTPEMU_SECRET"))
now = ENV["TOTPEMU_NOW_MS"] ? Time.at(Rational(ENV["TOTPEMU_NOW_MS"].to_i, 1000)) : Time.now
state = ENV["ROTP_STATE"] && File.join(ENV["ROTP_STATE"], ENV.fetch("TOTPEMU_ENROLLMENT"))
after = state && File.exist?(state) ? File.read(state).to_i : nil
at = totp.verify(code, drift_behind: ENV.fetch("ROTP_BEHIND", "0").to_i,
  drift_ahead: ENV.fetch("ROTP_AHEAD", "0").to_i, after: after, at: now)
exit 1 unless at
File.write(state, at.to_s) if state
exit 0
