package dev.hourglass.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hourglass.core.model.Job;
import dev.hourglass.core.store.JobPage;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * Writes a page of jobs, {@code {"jobs": [...], "nextCursor": "<id>" | null}}, to a response stream one job at a
 * time: only one job's JSON tree exists at once, and no document of the whole page is ever built, so what a list
 * answer costs beyond the page the store returned (itself bounded by its byte budget) is one job. Knows nothing of
 * the HTTP server: whatever serves the request hands it the body stream, which it leaves open.
 */
public final class JobPageWriter {
    private final ObjectMapper json;
    private final JobJson jobJson;

    public JobPageWriter(ObjectMapper json) {
        this.json = Objects.requireNonNull(json, "json");
        this.jobJson = new JobJson(json);
    }

    /**
     * Writes {@code page} to {@code out} and flushes it.
     *
     * @param payloads whether each job's {@code payload} field is written (the store read them only if asked)
     */
    public void write(JobPage page, boolean payloads, OutputStream out) throws IOException {
        try (JsonGenerator generator = json.createGenerator(out)) {
            generator.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            generator.writeStartObject();
            generator.writeArrayFieldStart("jobs");
            for (Job job : page.jobs()) {
                generator.writeTree(jobJson.job(job, payloads));
            }
            generator.writeEndArray();
            generator.writeStringField("nextCursor", page.next() == null ? null : page.next().toString());
            generator.writeEndObject();
        }
        out.flush();
    }
}
