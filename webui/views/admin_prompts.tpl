% rebase('base.tpl', title=_('Prompts'), back_path='/admin/prompts')
% include('admin_nav.tpl')
<h1>{{_('Prompts')}}</h1>
% include('admin_applied.tpl', applied=applied)
% include('admin_refused.tpl', refused=refused)
% include('admin_upload_error.tpl', error=error)
% if ctx.can('site.edit'):
<form method="post" action="/admin/prompts" enctype="multipart/form-data" class="card" id="prompt-upload">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<label>{{_('Name')}} * <input name="name" id="prompt-name" value="{{form.get('name', '')}}" required pattern="[A-Za-z0-9_][A-Za-z0-9_/\-]*"></label>
<small class="hint">{{_('Uploading a stock name (for example gas_welcome) replaces that stock prompt everywhere.')}}</small>
<label>{{_('Text')}} <input name="text" id="prompt-text" value="{{form.get('text', '')}}"></label>
<label>{{_('WAV file')}} * <input type="file" name="file" id="prompt-file" accept=".wav,audio/wav" required></label>
<small class="hint">{{_('8000 Hz, mono, 16-bit WAV. To convert: sox in.wav -r 8000 -c 1 -b 16 out.wav')}}</small>
<button type="submit" id="prompt-upload-button">{{_('Upload')}}</button>
</form>
<form method="post" action="/admin/prompts/record" class="card" id="prompt-record">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<h2>{{_('Record from a phone')}}</h2>
<label>{{_('Name')}} * <input name="name" id="record-name" required pattern="[A-Za-z0-9_][A-Za-z0-9_/\-]*"></label>
<button type="submit" id="record-button">{{_('Get a recording code')}}</button>
<small class="hint">{{_('Then dial *77 and the code from any extension within 10 minutes, speak after the tone and press # (or hang up). The code works once.')}}</small>
</form>
% if new_slot is not None:
<p class="notice" id="record-code">{{_('Dial')}} <strong class="secret">*77{{new_slot.code}}</strong> {{_('to record prompt')}} {{new_slot.name}}.</p>
% end
% if slots:
<table id="record-slots"><thead><tr><th>{{_('Prompt')}}</th><th>{{_('Code')}}</th><th>{{_('Until')}}</th></tr></thead><tbody>
% import time
% for s in slots:
<tr><td>{{s.name}}</td><td>*77{{s.code}}</td><td>{{time.strftime('%H:%M', time.localtime(s.expires))}}</td></tr>
% end
</tbody></table>
% end
% end
<h2>{{_('Uploaded prompts')}} ({{len(uploaded)}})</h2>
<table id="uploaded">
<thead><tr><th>{{_('Name')}}</th><th>{{_('Text')}}</th><th>{{_('Length')}}</th><th>{{_('Listen')}}</th><th></th></tr></thead>
<tbody>
% for p in uploaded:
<tr data-prompt="{{p['name']}}"><td>{{p['name']}}</td><td>{{p['text']}}</td>
<td>{{'%.1f s' % p['seconds'] if p['seconds'] is not None else _('missing file')}}</td>
<td><audio controls preload="metadata" src="/admin/prompts/audio/{{p['name']}}" class="prompt-audio"></audio></td>
<td>
% if ctx.can('site.edit'):
<form method="post" action="/admin/prompts/{{p['name']}}/delete" class="inline"><input type="hidden" name="csrf" value="{{ctx.csrf_token}}"><button class="danger" data-confirm="{{_('Delete this prompt?')}}">{{_('Delete')}}</button></form>
% end
</td></tr>
% end
</tbody>
</table>
<details id="stock-prompts"><summary>{{_('Stock prompts')}} ({{len(stock)}})</summary>
<table>
<thead><tr><th>{{_('Name')}}</th><th>{{_('Text')}}</th><th>{{_('Listen')}}</th></tr></thead>
<tbody>
% for p in stock:
<tr><td>{{p['name']}}{{' *' if p['custom'] else ''}}</td><td>{{p['text']}}</td><td><audio controls preload="none" src="/admin/prompts/audio/{{p['name']}}"></audio></td></tr>
% end
</tbody>
</table>
<p class="hint">{{_('* replaced by an uploaded recording.')}}</p>
</details>
