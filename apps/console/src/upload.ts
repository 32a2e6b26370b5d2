import { ApiError, problemOf } from '@jobs/client';

/**
 * Uploads a file to a source (`POST /api/sources/{id}/upload`, multipart `file`) reporting the bytes sent.
 * XMLHttpRequest, not fetch: only it reports upload progress in today's browsers. Same route, same credentials
 * (`headers`: the Bearer key, or the console header beside the dashboard session cookie, which a same-origin
 * request carries on its own).
 */
export function uploadFile(opts: {
  baseUrl: string;
  headers: Readonly<Record<string, string>>;
  sourceId: string;
  file: File;
  onProgress: (fraction: number) => void;
  signal?: AbortSignal;
}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${opts.baseUrl}/api/sources/${encodeURIComponent(opts.sourceId)}/upload`);
    for (const [name, value] of Object.entries(opts.headers)) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) opts.onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(problemOf(xhr.responseText));
      else reject(new ApiError(xhr.status, problemOf(xhr.responseText), xhr.statusText));
    };
    xhr.onerror = () => reject(new TypeError('The upload failed (network error)'));
    opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('file', opts.file, opts.file.name);
    xhr.send(form);
  });
}
