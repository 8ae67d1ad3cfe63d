% rebase('base.tpl', title=_('Ring group'), back_path='/admin/features')
% include('admin_nav.tpl')
<h1>{{_('Ring group')}} {{number or ''}}</h1>
% if errors:
<div class="error" id="form-errors" role="alert"><p>{{_('Not saved: please correct the marked fields. Nothing was changed.')}}</p><ul>
% for e in errors:
<li>{{e}}</li>
% end
</ul></div>
% end
<form method="post" action="/admin/ringgroups{{'' if number is None else '/' + number}}" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
% if number is None:
<label>{{_('Number')}} * <input name="number" id="f-number" value="{{form.get('number', '')}}" placeholder="5000-5099"></label>
% end
<label>{{_('Name')}} <input name="name" id="f-name" value="{{form.get('name', '')}}"></label>
<label>{{_('Strategy')}} <select name="strategy" id="f-strategy">
% for s in strategies:
<option value="{{s}}" {{'selected' if form.get('strategy') == s else ''}}>{{_(s)}}</option>
% end
</select></label>
<label>{{_('Ring timeout (s)')}} <input name="ring_timeout" id="f-ring_timeout" value="{{form.get('ring_timeout', '')}}"></label>
<label>{{_('Members')}} <input name="members" id="f-members" value="{{form.get('members', '')}}"></label>
<small class="hint">{{_('Extensions in order, e.g. 8001, 8002:15 (sequential: 15 s for 8002).')}}</small>
<label>{{_('Fallback')}} <input name="fallback" id="f-fallback" value="{{form.get('fallback', '')}}"></label>
<small class="hint">{{_('When nobody answers: a number, or vm:EXTENSION for a voicemail box. Empty: give up.')}}</small>
<label><input type="checkbox" name="enabled" value="1" {{'checked' if form.get('enabled') else ''}}> {{_('Enabled')}}</label>
<p><button type="submit" id="save">{{_('Save')}}</button> <a href="/admin/features">{{_('Cancel')}}</a></p>
</form>
