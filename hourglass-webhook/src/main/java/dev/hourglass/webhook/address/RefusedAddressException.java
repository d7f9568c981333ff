package dev.hourglass.webhook.address;

import java.net.UnknownHostException;
import java.util.Objects;

/**
 * Thrown by {@link GuardedDnsResolver} instead of answering with a blocked address, so the HTTP client never
 * connects. An {@link UnknownHostException} because that is what a resolver may throw; the delivery code catches
 * this subtype first and says why.
 */
public final class RefusedAddressException extends UnknownHostException {
    private static final long serialVersionUID = 1L;

    private final transient AddressRefusal refusal;

    public RefusedAddressException(AddressRefusal refusal) {
        super(Objects.requireNonNull(refusal, "refusal").describe());
        this.refusal = refusal;
    }

    public AddressRefusal refusal() {
        return refusal;
    }
}
