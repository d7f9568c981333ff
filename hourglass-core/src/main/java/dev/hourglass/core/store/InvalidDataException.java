package dev.hourglass.core.store;

/**
 * The store refused a value of one operation: an instant it cannot represent, a text it cannot hold (U+0000), a
 * number out of the column's range, or anything else the database rejects as data (PostgreSQL SQLState class 22).
 * An error of that operation's input, not of the store: retrying the operation cannot succeed, and the other
 * operations of the same transaction are not at fault. As for every {@link StoreException}, the transaction was
 * rolled back and nothing of it is kept.
 *
 * <p>{@link #element()} is the position of the refused element in the list given to the {@link StoreTx} method that
 * threw (0 for a method that takes one params record), or -1 when the store cannot tell which element it was (the
 * database refused one row of a statement that carried several). The engine's group committer leaves the refused
 * operation out and commits the others in a new transaction; when the position is unknown it finds the operation by
 * retrying the batch one operation at a time.
 *
 * <p>The message names the value's field and why it was refused, never the store's location or the database's own
 * words (those are in the cause), so that an API may show it to the client that sent the value.
 */
public class InvalidDataException extends StoreException {
    private final String field;
    private final int element;

    /**
     * @param field the refused value's field, as the SPI's records name it ({@code dueAt}, {@code idempotencyKey},
     *     ...), or null when unknown
     * @param reason why it was refused, for the client that sent it (no store location, no driver message)
     * @param element the position of the refused element in its batch, or -1 when unknown
     * @param cause the store's own failure, or null when the store refused the value before sending it
     */
    public InvalidDataException(String field, String reason, int element, Throwable cause) {
        super(field == null ? reason : field + ": " + reason, cause);
        this.field = field;
        this.element = element;
    }

    /** The refused value's field as the SPI names it, or null when the database did not say which. */
    public String field() {
        return field;
    }

    /** The position of the refused element in the list given to the {@link StoreTx} method, or -1 when unknown. */
    public int element() {
        return element;
    }

    /** Why the value was refused, without the field name. */
    public String reason() {
        String message = getMessage();
        return field == null ? message : message.substring(field.length() + 2);
    }

    /** The same refusal, at {@code position} in its batch. */
    public InvalidDataException at(int position) {
        InvalidDataException located = new InvalidDataException(field, reason(), position, getCause());
        located.setStackTrace(getStackTrace());
        return located;
    }
}
