% rebase('base.tpl', title=_('Music on hold'), back_path='/admin/moh')
% include('admin_nav.tpl')
<h1>{{_('Music on hold')}}</h1>
% if note:
<p class="notice" id="applied">{{_(note)}}</p>
% end
% include('admin_upload_error.tpl', error=error)
<p>{{_('Callers on hold and in queues hear')}}: <strong id="moh-source">{{_('an uploaded recording') if custom else _('the built-in chime')}}</strong>
% if custom and info.get('seconds') is not None:
({{'%.1f s' % info['seconds']}})
% end
</p>
% if playable:
<audio controls preload="metadata" src="/admin/prompts/audio/moh" id="moh-audio"></audio>
% end
% if ctx.can('site.edit'):
<form method="post" action="/admin/moh" enctype="multipart/form-data" class="card" id="moh-upload">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<label>{{_('WAV file')}} * <input type="file" name="file" id="moh-file" accept=".wav,audio/wav" required></label>
<small class="hint">{{_('8000 Hz, mono, 16-bit WAV. To convert: sox in.wav -r 8000 -c 1 -b 16 out.wav')}}</small>
<button type="submit" id="moh-upload-button">{{_('Upload')}}</button>
</form>
% if custom:
<form method="post" action="/admin/moh/reset" class="inline"><input type="hidden" name="csrf" value="{{ctx.csrf_token}}"><button class="danger" id="moh-reset">{{_('Use the built-in chime again')}}</button></form>
% end
% end
